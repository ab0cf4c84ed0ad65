"""The corpus: role profiles and case studies for two readers, and how the planner finds them.

documents   the documents' front matter models and the loader (validated at ingest)
index       the Chroma index: ingest and search
embeddings  the offline MiniLM embedder
promote     an approved plan turned into an anonymised case study
"""
