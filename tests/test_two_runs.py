"""Two `python -m bot run` on one SQLite database: the second refuses, the first goes on."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

from tests.fakes.telegram import FakeTelegram, ManualClock

TOKEN = "123456:TWO-RUNS-token"
ROOT = Path(__file__).resolve().parent.parent


def write_config(tmp_path: Path, api: FakeTelegram) -> Path:
    config = tmp_path / "two.toml"
    config.write_text(
        '[app]\nadmins = ["+6281100000001"]\n'
        '[database]\nurl = "sqlite:///two.db"\n'
        f'[telegram]\nenabled = true\nbase_url = "{api.base_url}"\n'
        f'base_file_url = "{api.base_file_url}"\npoll_timeout = 1\n',
        encoding="utf-8",
    )
    return config


async def start_run(config: Path) -> asyncio.subprocess.Process:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "SINERGI_CONFIG", "TEST_DATABASE_URL")
    }
    env["TELEGRAM_BOT_TOKEN"] = TOKEN
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "--config",
        str(config),
        "-v",
        "run",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def ended(process: asyncio.subprocess.Process, timeout: float) -> str:
    """The process's stderr once it has exited (within `timeout` seconds)."""
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=timeout)
    return stderr.decode("utf-8", "replace")


async def test_a_second_run_on_one_sqlite_database_refuses_and_the_first_goes_on(
    tmp_path,
) -> None:
    async with FakeTelegram(token=TOKEN, clock=ManualClock(), user_pause=1.0) as api:
        config = write_config(tmp_path, api)
        first = await start_run(config)
        second = None
        try:
            await api.wait_until(lambda: api.waiting_polls, 60, what="the first run to poll")
            second = await start_run(config)
            refusal = await ended(second, timeout=60)
            assert second.returncode == 2
            assert f"another `run` is already serving this database (pid {first.pid})" in refusal
            assert len(refusal.strip().splitlines()) == 1

            siti = api.user(111, "Siti", phone="+6281234567890")
            await siti.send_text("/start")
            await api.wait_until(lambda: siti.last_text and "Selamat" in siti.last_text, 30)
            assert first.returncode is None
            conflicts = [c for c in api.calls_to("getUpdates") if c.status == 409]
            assert conflicts == []  # the second never polled

            first.send_signal(signal.SIGINT)
            log = await ended(first, timeout=30)
            assert first.returncode == 0
            # -v logs INFO lines; the token never (Telegram's calls over aiohttp log no URL)
            assert "INFO apscheduler.scheduler: Scheduler started" in log and TOKEN not in log
        finally:
            for process in (first, second):
                if process is not None and process.returncode is None:
                    process.kill()
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(process.wait(), timeout=10)


async def test_run_starts_again_once_the_first_has_ended(tmp_path) -> None:
    async with FakeTelegram(token=TOKEN, clock=ManualClock(), user_pause=1.0) as api:
        config = write_config(tmp_path, api)
        # The lock is released with its process; Ctrl+C and systemd's or docker's SIGTERM
        # both end it gracefully.
        for signum in (signal.SIGINT, signal.SIGTERM):
            polls = len(api.calls_to("getUpdates"))
            process = await start_run(config)
            try:
                await api.wait_until(
                    lambda p=polls: len(api.calls_to("getUpdates")) > p, 60, what="run to poll"
                )
                process.send_signal(signum)
                stderr = await ended(process, timeout=30)
                assert process.returncode == 0, stderr
            finally:
                if process.returncode is None:
                    process.kill()
                    await asyncio.wait_for(process.wait(), timeout=10)


async def test_run_exits_non_zero_when_no_channel_can_run(tmp_path) -> None:
    async with FakeTelegram(token="999:SOMEONE-ELSE", clock=ManualClock()) as api:
        process = await start_run(write_config(tmp_path, api))
        try:
            log = await ended(process, timeout=60)
        finally:
            if process.returncode is None:
                process.kill()
                await asyncio.wait_for(process.wait(), timeout=10)
    assert process.returncode == 1
    assert "the Telegram channel stays off" in log
    assert "run stopped: every channel has ended" in log
    assert TOKEN not in log
