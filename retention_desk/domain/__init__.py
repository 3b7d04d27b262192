"""Plain data types and helpers every layer shares: the product's vocabulary, catalog entries, the gettext helper,
the clock, phone spelling and the progress callback. Nothing here touches the database, a model or the web."""
