"""Reading: a file (text, web page, PDF, Word file, e-mail, scan), or a link, read into
titled, dated paragraphs, and what their text says by rule (sentences and words, dates,
quotes and who said them).

Nothing here knows of the index: every other wing reads with these parts.
"""
