"""The chat page (`app.py`, `qa serve`): answer rendering, the Chat tab, the Articles
tab, and the page that holds them. Imports Gradio; the rest of `qa` does not."""
