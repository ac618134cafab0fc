"""Answering: an answer read out of the retrieved paragraphs, each claim cited. The
offline answerer (support scorer, span picker), a model's answer and its audit, the
follow-up rewriter, and the script that fits the learned parts.
"""
