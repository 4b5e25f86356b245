"""Customer-service bot without a model: intents, the shop knowledge base, commerce tools, labeled replies."""
