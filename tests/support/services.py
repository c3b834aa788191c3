"""`python -m tests.support.services PG_URL REDIS_URL`: exit 0 when both answer, else say why."""

from __future__ import annotations

import asyncio
import sys

from sqlalchemy.engine import make_url


async def _check(pg_url: str, redis_url: str) -> list[str]:
    problems = []
    try:
        import asyncpg

        url = make_url(pg_url)
        conn = await asyncio.wait_for(
            asyncpg.connect(
                host=url.host, port=url.port or 5432, user=url.username, database=url.database
            ),
            timeout=3,
        )
        await conn.close()
    except Exception as exc:
        problems.append(f"PostgreSQL at {pg_url}: {type(exc).__name__}: {exc}")
    try:
        from redis.asyncio import Redis

        client = Redis.from_url(redis_url)
        try:
            await asyncio.wait_for(client.ping(), timeout=3)
        finally:
            await client.aclose()
    except Exception as exc:
        problems.append(f"Redis at {redis_url}: {type(exc).__name__}: {exc}")
    return problems


def main() -> int:
    problems = asyncio.run(_check(sys.argv[1], sys.argv[2]))
    for problem in problems:
        print(f"not reachable: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
