"""Tiny, randomly initialised models built on the spot, to test the "bring your own model" paths.

No download: a BERT-shaped model with a 2-layer, 32-wide config and a word-level vocabulary
written here. What they predict is meaningless; that the loading and scoring paths work is not.
"""

from __future__ import annotations

from pathlib import Path

WORDS = [
    "sora",
    "leak",
    "openai",
    "artists",
    "video",
    "model",
    "the",
    "a",
    "is",
    "was",
    "of",
    "to",
    "and",
    "great",
    "terrible",
    "fine",
]


def _tokenizer(folder: Path):
    # transformers 5 keeps BertTokenizerFast only as a runtime alias, which its type information leaves out
    from transformers import BertTokenizerFast  # type: ignore[attr-defined]

    folder.mkdir(parents=True, exist_ok=True)
    vocab = folder / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]) + "\n", encoding="utf-8")
    return BertTokenizerFast(vocab_file=str(vocab))


def _config(**extra):
    from transformers import BertConfig

    return BertConfig(
        vocab_size=5 + len(WORDS),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
        **extra,
    )


def tiny_sentiment_classifier(folder: Path, labels: dict[int, str]) -> Path:
    """A sequence classifier whose id2label is `labels`, saved as a local model folder."""
    import torch
    from transformers import BertForSequenceClassification

    torch.manual_seed(0)
    config = _config(num_labels=len(labels), id2label=labels, label2id={v: k for k, v in labels.items()})
    BertForSequenceClassification(config).save_pretrained(folder)
    _tokenizer(folder).save_pretrained(folder)
    return folder


def tiny_sentence_transformer(folder: Path) -> Path:
    """A sentence-transformers model folder (BERT + mean pooling), saved locally."""
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers import BertModel

    try:
        from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    except ImportError:  # sentence-transformers before the modules moved; mypy sees only the installed layout
        from sentence_transformers.models import Pooling, Transformer  # type: ignore[no-redef]

    torch.manual_seed(0)
    base = folder / "base"
    BertModel(_config()).save_pretrained(base)
    _tokenizer(base).save_pretrained(base)
    encoder = Transformer(str(base), max_seq_length=32)
    dimension = getattr(encoder, "get_embedding_dimension", None) or encoder.get_word_embedding_dimension
    pooling = Pooling(dimension(), pooling_mode="mean")
    SentenceTransformer(modules=[encoder, pooling], device="cpu").save(str(folder / "st"))
    return folder / "st"
