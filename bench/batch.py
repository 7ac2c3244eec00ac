"""Twenty brands' issues: one Message Batch vs ordinary calls one by one, against a loopback fake.

Both runs are the real `agents.brands.BrandsRun` on the bundled sample (20 profiles over 4 distinct source
configurations, so 4 shared gathers), through the real SDK to `tests/agents/fake_batches.FakeBatchServer`, which
answers like the offline model and reports usage from the request's size (characters / 4). Each run has its own
fresh store; cost is read from the usage each run recorded (batch entries priced at half).

Wall time: an ordinary call takes CALL_LATENCY_S at the fake (a stand-in for generation time), a batch is ended
at its second poll, polled every POLL_S. A real batch can take minutes to hours; this measures our side: one
create, a few polls and one results read instead of a round trip per section. `*_send_s` times that phase
alone; `*_wall_s` is the whole run, mostly gathering, ranking per brand and the fact-check of 20 issues, the same
work in both modes.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import anthropic  # noqa: E402

from ai_content_agents import pipeline  # noqa: E402
from ai_content_agents.agents.api import RetryPolicy  # noqa: E402
from ai_content_agents.agents.batches import Poller  # noqa: E402
from ai_content_agents.agents.brands import BrandJob, BrandsRun, Gathered  # noqa: E402
from ai_content_agents.config import Settings  # noqa: E402
from ai_content_agents.models import GatherReport, Newsletter  # noqa: E402
from ai_content_agents.store import Store  # noqa: E402
from tests.agents.fake_batches import FakeBatchServer  # noqa: E402

PROFILES = 20
CALL_LATENCY_S = 0.05
POLL_S = 0.05
NICHES = ["serum", "kitchen", "blender", "sunscreen", "fitness", "pet", "desk", "phone", "hair", "coffee"]
SOURCE_SETS = [  # 4 distinct source configurations
    {},
    {"enable_x": False},
    {"enable_reddit": False, "enable_youtube": False},
    {"enable_tiktok_shop": False, "enable_x": False},
]


def jobs(base: Settings) -> list[BrandJob]:
    return [
        BrandJob(name=f"brand{i:02d}", settings=base.model_copy(update={
            "newsletter_name": f"Brand {i}", "niche_terms": [NICHES[i % len(NICHES)]], **SOURCE_SETS[i % len(SOURCE_SETS)],
        }))
        for i in range(PROFILES)
    ]


def one_run(batch: bool) -> dict[str, float]:
    cache: dict[str, GatherReport] = {}
    gathers = [0]

    def gather(s: Settings) -> Gathered:
        gathers[0] += 1
        key = ",".join(s.enabled_sources())
        if key not in cache:
            cache[key] = pipeline.gather(s, None, mode="sample")
        return Gathered(report=cache[key], ranked_at=cache[key].started_at, replay=True)

    def publish(name: str, nl: Newsletter) -> str:
        return name

    with tempfile.TemporaryDirectory() as tmp, FakeBatchServer(polls_to_end=2, call_delay_s=CALL_LATENCY_S) as server:
        base = Settings(_env_file=None, data_dir=Path(tmp), out_dir=Path(tmp) / "out", batch_concurrency=1)
        store = Store(base.db_path)
        client = anthropic.Anthropic(api_key="bench-key", base_url=server.url, max_retries=0)
        run = BrandsRun(base, store, client, gather, publish, batch=batch,
                        poller=Poller(POLL_S, POLL_S, 60.0), retry=RetryPolicy(max_retries=0))
        sending = [0.0]
        for phase in ("_batch", "_calls"):  # time the sending phase alone (gathering and composing are the same)
            inner = getattr(run, phase)

            def timed(*args: object, _inner: object = inner) -> object:
                t0 = time.perf_counter()
                try:
                    return _inner(*args)  # type: ignore[operator]
                finally:
                    sending[0] += time.perf_counter() - t0

            setattr(run, phase, timed)
        started = time.perf_counter()
        outcome = run.run(jobs(base))
        wall = time.perf_counter() - started
        store.close()
    assert all(p.folder for p in outcome.profiles), [p.problems for p in outcome.profiles]
    usage = run.usage
    assert usage is not None
    return {"wall_s": wall, "send_s": sending[0], "cost_usd": usage.cost_usd, "requests": float(len(usage.calls)),
            "http_calls": float(len(server.calls)), "creates": float(server.creates), "gathers": float(gathers[0]),
            "input_tokens": float(usage.total().input_tokens)}


def run() -> dict[str, float]:
    one_by_one = one_run(batch=False)
    batch = one_run(batch=True)
    return {
        "batch_profiles": float(PROFILES),
        "batch_gathers": batch["gathers"],
        "batch_requests": batch["requests"],
        "batch_creates": batch["creates"],
        "batch_ordinary_calls": batch["http_calls"],
        "batch_wall_s": round(batch["wall_s"], 3),
        "batch_send_s": round(batch["send_s"], 3),
        "batch_cost_usd": round(batch["cost_usd"], 4),
        "one_by_one_calls": one_by_one["http_calls"],
        "one_by_one_wall_s": round(one_by_one["wall_s"], 3),
        "one_by_one_send_s": round(one_by_one["send_s"], 3),
        "one_by_one_cost_usd": round(one_by_one["cost_usd"], 4),
        "batch_cost_ratio": round(batch["cost_usd"] / one_by_one["cost_usd"], 4),
        "batch_wall_ratio": round(batch["wall_s"] / one_by_one["wall_s"], 4),
        "batch_send_ratio": round(batch["send_s"] / one_by_one["send_s"], 4),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
