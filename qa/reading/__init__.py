"""Reading: a file, web page, PDF or link read into titled, dated paragraphs, and what
their text says by rule (sentences and words, dates, quotes and who said them).

Nothing here knows of the index: every other wing reads with these parts.
"""
