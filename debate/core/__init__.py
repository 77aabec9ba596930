"""The core: settings (the one place that reads the environment), errors, text, embeddings
and the chat-model factory. Imports nothing else of the package."""
