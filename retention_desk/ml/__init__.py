"""Churn model stages: pure features, the scikit-learn pipeline, training, evaluation and the registry."""
