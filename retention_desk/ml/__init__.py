"""The models: features, labels and training data, the churn pipeline, the offer-response model, evaluation and
the registry."""
