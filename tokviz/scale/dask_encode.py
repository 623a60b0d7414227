"""A corpus to token ids (``.bin``, ``.npy`` or shards of either) on a Dask cluster: ranges encoded on the workers,
written in order.

The tokenizer is sent to every worker once; each job reads its byte range through fsspec and encodes it
(:func:`tokviz.corpus.ids.encode_range`); the client appends the arrays to the file in corpus order, with at most a
few jobs per worker in flight, so its memory stays bounded. The file is the one :func:`tokviz.corpus.ids.encode_corpus`
writes (:mod:`tokviz.corpus.id_files`), with the same ids. A tokenizer whose ranges cannot be encoded separately (see
:func:`tokviz.corpus.ids.can_cut`) is refused: encode it with ``encode_corpus`` on one machine.

Example (a local cluster: slow to start, so not run here)::

    from tokviz import load_tokenizer
    from tokviz.scale import connect, encode_on_dask
    with connect("local:2") as client:
        encode_on_dask(["s3://bucket/a.txt"], load_tokenizer("gpt2"), "ids.npy", client=client,
                       eot="<|endoftext|>")
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tokviz.corpus.id_files import IdsOutput, check_output
from tokviz.corpus.ids import (
    ENCODE_RANGE_BYTES,
    CorpusIds,
    Job,
    can_cut,
    encode_range,
    eot_id,
    finish,
    ids_dtype,
    max_id,
    plan_jobs,
    windowed,
    write_in_order,
)
from tokviz.corpus.sources import Source
from tokviz.models.bpe import Tokenizer
from tokviz.scale.cluster import import_distributed
from tokviz.scale.dask_count import check_on_dask

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from tokviz.corpus.ids import EncodeCorpusOptions

#: Jobs in flight per worker: enough to keep each busy while the client writes, few enough to bound memory.
IN_FLIGHT_PER_WORKER = 3


def _encode(tokenizer: Tokenizer, job: Job, dtype: str, errors: str) -> Any:
    return encode_range(tokenizer, job.source, job.start, job.end, dtype, errors=errors)


def encode_on_dask(
    sources: Sequence[Source],
    tokenizer: Tokenizer,
    output: str | os.PathLike[str],
    *,
    client: Any,
    **options: Unpack[EncodeCorpusOptions],
) -> CorpusIds:
    """Encode ``sources`` (paths the workers can read, or fsspec URLs) to ``output`` as
    :func:`tokviz.corpus.ids.encode_corpus` does (``.bin`` or ``.npy``, sharded with ``shard_tokens``)."""
    eot, range_bytes = options.get("eot"), options.get("range_bytes", ENCODE_RANGE_BYTES)
    shard_tokens, errors, on_progress = options.get("shard_tokens"), options.get("errors", "strict"), \
        options.get("on_progress")
    distributed = import_distributed()
    out = check_output(output)
    if not can_cut(tokenizer):
        raise ValueError(f"{tokenizer.name}: only a tokviz BPE tokenizer with a named pattern (gpt2, gpt4, o200k) "
                         "can be encoded in ranges on Dask; encode this one without --dask.")
    sep = eot_id(tokenizer, eot) if eot is not None else None
    dtype = ids_dtype(max_id(tokenizer))
    check_on_dask(sources, client=client, errors=errors)  # every bad file named at once, before any encoding
    jobs = client.submit(plan_jobs, list(sources), special_tokens=tokenizer.pretokenizer.special_tokens,
                         range_bytes=range_bytes, pure=False).result()
    shared = client.scatter(tokenizer, broadcast=True)  # sent to each worker once, not with every job
    n_workers = max(1, len(client.scheduler_info(n_workers=-1)["workers"]))
    writer = IdsOutput(out, dtype, shard_tokens=shard_tokens)
    try:
        results = windowed(lambda job: client.submit(_encode, shared, job, dtype, errors, pure=False),
                           lambda f: f.result(), jobs, IN_FLIGHT_PER_WORKER * n_workers)
        write_in_order(jobs, results, writer, eot=sep, n_documents=len(sources), on_progress=on_progress)
    except distributed.KilledWorker as e:
        writer.abort()
        raise RuntimeError(f"a Dask worker died while encoding ({e}); give the workers more memory.") from e
    except BaseException:
        writer.abort()
        raise
    return finish(writer, tokenizer, n_documents=len(sources), eot=sep)
