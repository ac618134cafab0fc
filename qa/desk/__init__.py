"""The desk: a journalist's tools over the index, built on the answerer's parts. Check
a claim, who said what across the articles, a timeline of what they date.
"""
