"""Keeping: paragraphs embedded and kept in the index (a Chroma collection and a BM25
word index beside it, each article's quotes in a side collection), added to and
removed from incrementally, opened once per process, and the same paragraph in several
articles known as one.
"""
