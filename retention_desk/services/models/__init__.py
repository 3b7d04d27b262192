"""The trained models as the product uses them: the nightly job (``nightly``, ``offer_training``), the registry's
versions and promotions (``registry``), the caller's churn risk (``risk``) and the offer model's predictions
(``offer_predictions``)."""
