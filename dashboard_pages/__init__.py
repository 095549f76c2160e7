"""The dashboard's pages (one small script each, run by `st.navigation` in dashboard.py) and their helpers.

`view` holds what every page shares (the store, the monitor, the filters from the URL, cached
queries); `charts` builds the Altair charts; `post_cards` shows posts as text, never as markup.
"""
