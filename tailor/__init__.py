"""tailor: grounded, tailored 30/60/90-day onboarding plans."""

__version__ = "0.1.0"
