"""The knowledge base: articles in Markdown, search, import and export, self-service records."""
