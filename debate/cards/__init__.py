"""Cards: the debater's unit of evidence (tag, cite, a verbatim cut), case files, Word and
Markdown in and out."""
