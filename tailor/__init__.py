"""tailor: grounded, tailored 30/60/90-day onboarding plans."""

__version__ = "0.1.0"

import os as _os

# litellm fetches a price map from the network at import time unless told not to; any
# `import tailor.<module>` runs this first, whatever the caller imported before.
_os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
