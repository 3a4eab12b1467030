"""voc models: embeddings, themes, routing, demand, weekly statistics and the review's rules."""
