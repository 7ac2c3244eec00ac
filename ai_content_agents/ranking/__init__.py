"""Fair cross-source ranking (reference trends_scoring.md §0–§5), pure functions, no I/O.

- `text`: title tokens, brands, categories, canonical ids from links, product-type phrases.
- `entities`: which items are one product (ids → brands → guarded fuzzy titles) and which products
  are one story (product types anchored to listings).
- `score`: a story's evidence accumulated by noisy-OR over independent sources, one decay, labels.
- `rank`: stories in score order, single-source caps, off-topic and featured demotion.
"""

from .entities import clear_caches, is_listing, learn_brands
from .rank import RankConfig, RankResult, cluster, cluster_keys, percentiles, rank, rank_with_stats, relevant
from .score import canonical_urls, cluster_id_for, noisy_or
from .text import category_buckets, item_ids, link_ids, normalise_brand, normalise_title, title_tokens

__all__ = [
    "RankConfig",
    "RankResult",
    "canonical_urls",
    "category_buckets",
    "clear_caches",
    "cluster",
    "cluster_id_for",
    "cluster_keys",
    "is_listing",
    "item_ids",
    "learn_brands",
    "link_ids",
    "noisy_or",
    "normalise_brand",
    "normalise_title",
    "percentiles",
    "rank",
    "rank_with_stats",
    "relevant",
    "title_tokens",
]
