"""Model providers behind one small interface (`base.Provider`), one module per kind.

`registry` lists the kinds and imports each only when first used (boto3 is slow to import);
`base.ProviderPool` creates and shares them. See docs/ARCHITECTURE.md to add a kind.
"""
