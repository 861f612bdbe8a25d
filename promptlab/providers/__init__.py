"""Model providers behind one small interface. Bedrock is imported lazily (boto3 is slow)."""

from __future__ import annotations

from promptlab.providers.base import ModelCallError, Provider, ProviderPool

__all__ = ["ModelCallError", "Provider", "ProviderPool"]
