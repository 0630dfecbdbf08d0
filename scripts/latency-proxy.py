#!/usr/bin/env python3
"""A TCP proxy that delays every byte by a fixed time each way, for scripts/bench's
BENCH_PG_LATENCY_MS: PostgreSQL on this machine, reached as if it ran on another one.

Usage: latency-proxy.py LISTEN_PORT TARGET_HOST:TARGET_PORT DELAY_MS

Each direction keeps its order and its pipelining: what arrives at t is written at t + delay,
however much else is in flight (a link's latency, not a bandwidth cap). Prints "ready" once it
listens.
"""
import asyncio
import sys


async def pipe(reader, writer, delay):
    loop = asyncio.get_running_loop()
    pending = asyncio.Queue()

    async def deliver():
        while True:
            due, data = await pending.get()
            if data is None:
                break
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        writer.close()

    sender = asyncio.create_task(deliver())
    try:
        while data := await reader.read(65536):
            pending.put_nowait((loop.time() + delay, data))
    finally:
        pending.put_nowait((loop.time() + delay, None))
        await sender


async def main():
    listen_port = int(sys.argv[1])
    host, port = sys.argv[2].rsplit(":", 1)
    delay = float(sys.argv[3]) / 1000

    async def serve(client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection(host, int(port))
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            pipe(client_reader, server_writer, delay),
            pipe(server_reader, client_writer, delay),
            return_exceptions=True,
        )

    server = await asyncio.start_server(serve, "127.0.0.1", listen_port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
