"""The one place any model is called.

caller          the ``ModelCaller`` protocol every model sits behind, and what a call gives back
llm             ``LiteLLMModel``, the real caller: litellm for transport, instructor for structure
scripted        ``ScriptedModel``: answers written in advance, through the same litellm path
cached          ``CachedModel``: any caller, answered from the response cache when every key part matches
response_cache  recorded answers, keyed by model, prompt, corpus and schema (eval replay)
failures        every way a call fails, as one ``ModelCallFailed`` with a kind
local_provider  the local GGUF model as litellm provider ``local``
localworker     the local model in a supervised worker process (crash-proof, queued)
localmodel      the local model files: fetched from PyPI, sha256-verified
modelcheck      ``tailor model check``: one real generation in a child process
"""
