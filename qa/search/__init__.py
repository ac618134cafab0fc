"""Searching: which paragraphs a question sees. Hybrid retrieval (dense and BM25,
fused), restricted to the articles a scope or the question's own dates allow.
"""
