"""voc models: embeddings, themes, routing, demand and trends."""
