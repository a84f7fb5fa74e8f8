"""The base of every pydantic model of the app (and its configuration shared by all of them).

`defer_build`: a model's validator and serializer are built on its first use, not when its class is
created. The API function imports every blueprint, so building the ~220 models at import was about a
fifth of a cold start's import; a request builds only the few it touches (README, "Against the floor,
cold start, flash sale, growth"). tests/test_models.py checks that every model inherits it.
"""

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    model_config = ConfigDict(defer_build=True)
