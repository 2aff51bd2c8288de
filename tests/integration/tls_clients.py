#!/usr/bin/python3
# N concurrent TLS clients (Python's ssl module, asyncio) against a TLS echo: each
# connects, verifies the server, sends SIZE random bytes, reads them back exactly.
"""tls_clients.py HOST PORT CAFILE NAME N SIZE TIMEOUT

Prints one JSON line: {"ok": N_OK, "failed": N_FAILED, "errors": {reason: count},
"versions": {version: count}}. Exit status 0 when every client completed.
Run inside the client namespace (ip netns exec NS python3 tls_clients.py ...).
"""

import asyncio
import json
import os
import ssl
import sys


async def one(host, port, ctx, name, size, timeout, started):
    data = os.urandom(size)
    reader = writer = None
    try:
        # All connect at once: each waits until every task has started.
        await started.wait()
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=ctx, server_hostname=name), timeout)
        version = writer.get_extra_info("ssl_object").version()
        writer.write(data)
        await writer.drain()
        got = await asyncio.wait_for(reader.readexactly(size), timeout)
        if got != data:
            return "mismatch", version
        return None, version
    except asyncio.TimeoutError:
        return "timeout", None
    except (OSError, ssl.SSLError, asyncio.IncompleteReadError) as e:
        return type(e).__name__ + ": " + str(e)[:80], None
    finally:
        if writer is not None:
            writer.close()
            try:
                await asyncio.wait_for(writer.wait_closed(), 5)
            except (OSError, ssl.SSLError, asyncio.TimeoutError):
                pass


async def main():
    host, port, cafile, name = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    n, size, timeout = int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7])
    ctx = ssl.create_default_context(cafile=cafile)
    started = asyncio.Event()
    tasks = [asyncio.create_task(one(host, port, ctx, name, size, timeout, started))
             for _ in range(n)]
    await asyncio.sleep(0)
    started.set()
    res = await asyncio.gather(*tasks)
    errors, versions = {}, {}
    for err, version in res:
        if err:
            errors[err] = errors.get(err, 0) + 1
        else:
            versions[version] = versions.get(version, 0) + 1
    failed = sum(errors.values())
    print(json.dumps({"ok": n - failed, "failed": failed, "errors": errors,
                      "versions": versions}), flush=True)
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
