"""Where text comes from: the LLM port, the OpenAI adapter and its transport, the offline coach."""
