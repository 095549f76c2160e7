"""Writes the demo corpus's news pages: Google News RSS search results and GDELT artlist responses.

Everything here is fictional: the outlets, their headlines and every URL (all on reserved .example
domains). The pages follow the platforms' formats exactly, so `python -m collect --demo` replays them
through the real `googlenews` and `gdelt` parsers. Standard library only; the output is the same on
every run. Run from the repository root: `python demo/generate_news.py`.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from pathlib import Path
from urllib.parse import quote_plus

OUT = Path(__file__).resolve().parent / "sora-leak"
QUERY = '("Sora" OR "سورا") (leak OR تسريب OR "PR-Puppets" OR "PR Puppets")'

# (edition hl, gl, language tag, GDELT language name, country): the editions the demo searched.
EDITIONS = {
    "en-US": ("en-US", "US", "en-US", "English", "United States"),
    "ar-EG": ("ar", "EG", "ar", "Arabic", "Egypt"),
    "fr-FR": ("fr", "FR", "fr", "French", "France"),
    "es-ES": ("es", "ES", "es", "Spanish", "Spain"),
    "de-DE": ("de", "DE", "de", "German", "Germany"),
    "pt-BR": ("pt-BR", "BR", "pt-419", "Portuguese", "Brazil"),
}

# edition, "YYYY-MM-DD HH:MM" (UTC), outlet, outlet's domain, headline.
ARTICLES = [
    (
        "en-US",
        "2024-11-14 09:30",
        "The Daily Example",
        "daily.example",
        "Sora still unreleased as rumours of a leak swirl among testers",
    ),
    (
        "en-US",
        "2024-11-26 14:40",
        "Tech Wire Example",
        "techwire.example",
        "Artists appear to leak access to OpenAI's Sora in protest",
    ),
    (
        "en-US",
        "2024-11-26 15:10",
        "The Daily Example",
        "daily.example",
        "'PR-Puppets': early Sora testers say they were used for art-washing",
    ),
    (
        "en-US",
        "2024-11-26 16:05",
        "Courier Example",
        "courier.example",
        "OpenAI pauses Sora early access after artists' leak",
    ),
    (
        "en-US",
        "2024-11-26 17:20",
        "Arts & Machines Example",
        "arts.example",
        "Read the PR-Puppets letter: unpaid testing, no credit, no say",
    ),
    (
        "en-US",
        "2024-11-26 19:45",
        "Security Ledger Example",
        "ledger.example",
        "How the Sora leak worked: a front end on early-access tokens",
    ),
    (
        "en-US",
        "2024-11-27 08:00",
        "Tech Wire Example",
        "techwire.example",
        "After the Sora leak, artists split over the PR-Puppets protest",
    ),
    (
        "en-US",
        "2024-11-27 13:30",
        "Business Example",
        "business.example",
        "Sora leak raises questions about unpaid creative testing",
    ),
    (
        "en-US",
        "2024-11-28 10:15",
        "Courier Example",
        "courier.example",
        "OpenAI says Sora leak testers joined voluntarily",
    ),
    (
        "en-US",
        "2024-12-02 12:00",
        "Arts & Machines Example",
        "arts.example",
        "One week after the Sora leak: what changed for the artists",
    ),
    (
        "en-US",
        "2024-12-09 18:30",
        "Tech Wire Example",
        "techwire.example",
        "Sora launches to the public, two weeks after the PR-Puppets leak",
    ),
    (
        "en-US",
        "2024-12-10 09:00",
        "The Daily Example",
        "daily.example",
        "Sora is out; the leak's questions about artists' pay remain",
    ),
    (
        "en-US",
        "2024-11-26 11:00",
        "Coast Travel Example",
        "coast.example",
        "Sora Bay hotels fix roof leak before the winter season",
    ),
    ("ar-EG", "2024-11-26 16:30", "صحيفة المثال", "sahifa.example", "فنانون يسربون نموذج سورا احتجاجا على أوبن إيه آي"),
    (
        "ar-EG",
        "2024-11-26 18:10",
        "أخبار التقنية مثال",
        "tech-ar.example",
        "تسريب سورا: مجموعة PR-Puppets تتهم الشركة باستغلال الفنانين",
    ),
    ("ar-EG", "2024-11-27 07:45", "البوابة مثال", "bawaba.example", "ماذا نعرف عن تسريب نموذج سورا لتوليد الفيديو؟"),
    (
        "ar-EG",
        "2024-11-27 15:20",
        "صحيفة المثال",
        "sahifa.example",
        "أوبن إيه آي توقف الوصول المبكر إلى سورا بعد التسريب",
    ),
    (
        "ar-EG",
        "2024-11-29 11:00",
        "منصة الفن مثال",
        "fann.example",
        "فنانون عرب: تسريب سورا يفتح نقاش العمل غير المدفوع",
    ),
    ("ar-EG", "2024-12-09 20:00", "أخبار التقنية مثال", "tech-ar.example", "إطلاق سورا للجمهور بعد أسبوعين من التسريب"),
    (
        "fr-FR",
        "2024-11-26 17:00",
        "Le Journal Exemple",
        "journal.example",
        "Sora : des artistes « PR-Puppets » ouvrent l’accès au modèle d’OpenAI",
    ),
    (
        "fr-FR",
        "2024-11-27 09:30",
        "Numérique Exemple",
        "numerique.example",
        "Leak de Sora : les testeurs dénoncent un « art-washing »",
    ),
    (
        "fr-FR",
        "2024-11-28 14:00",
        "Le Journal Exemple",
        "journal.example",
        "Après le leak de Sora, OpenAI défend son programme d’accès anticipé",
    ),
    (
        "fr-FR",
        "2024-12-09 19:00",
        "Numérique Exemple",
        "numerique.example",
        "Sora disponible pour tous, deux semaines après le leak des PR-Puppets",
    ),
    (
        "es-ES",
        "2024-11-26 18:30",
        "Diario Ejemplo",
        "diario.example",
        "Artistas filtran Sora: el grupo PR-Puppets acusa a OpenAI",
    ),
    (
        "es-ES",
        "2024-11-27 10:00",
        "Tecnología Ejemplo",
        "tecno.example",
        "El leak de Sora reabre el debate sobre el trabajo no pagado",
    ),
    ("es-ES", "2024-11-29 08:45", "Diario Ejemplo", "diario.example", "Qué piden los PR-Puppets tras el leak de Sora"),
    (
        "de-DE",
        "2024-11-26 19:00",
        "Netzblatt Beispiel",
        "netzblatt.example",
        "Sora-Leak: Künstler der Gruppe PR-Puppets veröffentlichen Zugang",
    ),
    (
        "de-DE",
        "2024-11-27 11:30",
        "Technik Beispiel",
        "technik.example",
        "Nach dem Sora-Leak: OpenAI stoppt frühen Zugang",
    ),
    (
        "de-DE",
        "2024-12-09 21:00",
        "Netzblatt Beispiel",
        "netzblatt.example",
        "Sora startet offiziell – zwei Wochen nach dem Leak",
    ),
    (
        "pt-BR",
        "2024-11-26 20:15",
        "Folha Exemplo",
        "folha.example",
        "Artistas vazam Sora em protesto; grupo PR-Puppets critica a OpenAI",
    ),
    (
        "pt-BR",
        "2024-11-28 09:00",
        "Tecno Exemplo",
        "tecnobr.example",
        "Leak do Sora: o que os artistas do PR-Puppets querem",
    ),
]

# When each edition's search was recorded (the feed's lastBuildDate).
RECORDED = datetime(2024, 12, 10, 12, tzinfo=UTC)


def _when(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def _slug(headline: str) -> str:
    return hashlib.sha256(headline.encode()).hexdigest()[:12]


def _article_url(domain: str, when: datetime, headline: str) -> str:
    return f"https://www.{domain}/{when:%Y/%m/%d}/{_slug(headline)}"


def google_news_page(edition: str) -> str:
    hl, gl, ceid_lang, _, _ = EDITIONS[edition]
    rows = sorted((row for row in ARTICLES if row[0] == edition), key=lambda row: row[1], reverse=True)
    items = []
    for _, when_text, outlet, domain, headline in rows:
        when = _when(when_text)
        link = _article_url(domain, when, headline)
        guid = "DEMO" + _slug(headline + outlet)
        description = (
            f'<a href="{link}" target="_blank">{escape(headline, quote=False)}</a>'
            f'&nbsp;&nbsp;<font color="#6f6f6f">{escape(outlet, quote=False)}</font>'
        )
        items.append(
            f"<item><title>{escape(f'{headline} - {outlet}', quote=False)}</title><link>{link}</link>"
            f'<guid isPermaLink="false">{guid}</guid><pubDate>{format_datetime(when, usegmt=True)}</pubDate>'
            f"<description>{escape(description, quote=False)}</description>"
            f'<source url="https://www.{domain}">{escape(outlet, quote=False)}</source></item>'
        )
    search = (
        f"https://news.google.example/search?q={quote_plus(QUERY)}&amp;hl={hl}&amp;gl={gl}&amp;ceid={gl}:{ceid_lang}"
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><rss version="2.0" '
        'xmlns:media="http://search.yahoo.com/mrss/"><channel><generator>NFE/5.0</generator>'
        f"<title>{escape(QUERY, quote=False)} - Google News</title><link>{search}</link>"
        f"<language>{hl}</language><webMaster>news-webmaster@google.example</webMaster>"
        "<copyright>Fictional demo data for Murmur.</copyright>"
        f"<lastBuildDate>{format_datetime(RECORDED, usegmt=True)}</lastBuildDate>"
        "<description>Google News</description>" + "".join(items) + "</channel></rss>\n"
    )


def gdelt_page() -> str:
    """One artlist response of every article, as GDELT would have seen them, newest first."""
    articles = []
    for edition, when_text, _, domain, headline in sorted(ARTICLES, key=lambda row: row[1], reverse=True):
        _, _, _, language, country = EDITIONS[edition]
        when = _when(when_text)
        url = _article_url(domain, when, headline)
        articles.append(
            {
                "url": url,
                "url_mobile": "",
                "title": headline,
                "seendate": f"{when:%Y%m%dT%H%M%S}Z",
                "socialimage": "",
                "domain": domain,
                "language": language,
                "sourcecountry": country,
            }
        )
    return json.dumps({"articles": articles}, ensure_ascii=False, indent=1) + "\n"


def main() -> None:
    news = OUT / "googlenews"
    news.mkdir(parents=True, exist_ok=True)
    for edition in EDITIONS:
        (news / f"search-{edition}.xml").write_text(google_news_page(edition), encoding="utf-8")
    gdelt = OUT / "gdelt"
    gdelt.mkdir(parents=True, exist_ok=True)
    (gdelt / "artlist-0001.json").write_text(gdelt_page(), encoding="utf-8")
    print(f"{len(ARTICLES)} articles in {len(EDITIONS)} Google News editions and one GDELT page")


if __name__ == "__main__":
    main()
