"""Counter-offers: who may get which offer, what each is worth, and which the desk puts first."""
