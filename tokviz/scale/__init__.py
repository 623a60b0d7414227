"""Beyond one machine: pre-token counting, the merge phase and corpus encoding on a Dask cluster (the optional
``scale`` extra).

``pip install 'tokviz[scale]'`` brings ``dask[distributed]``, ``fsspec`` and ``numpy``; they are imported only when
a function here runs, so ``import tokviz`` (and this package) needs none of them.

- :func:`count_on_dask`: byte ranges of each file are counted on the workers (each reads its own ranges through
  fsspec), the partial counts are summed in a tree on the workers, and one :class:`tokviz.training.counts_table.Counts`
  comes back.
- :func:`count_shards_on_dask`: the same count summed and written in shards (a pre-token's hash picks its shard), so
  no worker and not the client holds the whole table (:mod:`tokviz.training.counts_shards`).
- :func:`encode_on_dask`: a corpus to one flat ``.bin`` or ``.npy`` of token ids (or shards), ranges encoded on the
  workers, written in order by the client.
- :func:`train_on_dask` / :func:`merge_on_dask`: the merge phase from a sharded counts folder, split across the
  workers (each holds its shards' pre-tokens as a Dask actor, the client only the pair counts), with exactly the
  merges of one process (:mod:`tokviz.scale.dask_merge`).
- :func:`connect`: a ``distributed.Client`` for an address, or ``local:N`` for a local cluster of N processes.

Example:
    >>> from tokviz.scale import connect  # cheap: nothing of dask is imported yet
    >>> callable(connect)
    True
"""

from tokviz.scale.cluster import connect
from tokviz.scale.dask_count import count_on_dask, count_shards_on_dask
from tokviz.scale.dask_encode import encode_on_dask
from tokviz.scale.dask_merge import merge_on_dask, train_on_dask

__all__ = ["connect", "count_on_dask", "count_shards_on_dask", "encode_on_dask", "merge_on_dask", "train_on_dask"]
