"""The async-io lesson's server on asyncio: one thread, one event loop, each connection a
coroutine that answers every 8-byte request with the same 8 bytes after DELAY_MS (an
asyncio.sleep, a timer). With BLOCK_MS > 0, the first connection's coroutine calls
time.sleep(BLOCK_MS) before each answer, the mistake of a blocking call inside a coroutine:
the whole loop stops while it sleeps.

conlab starts it with its control channel as stdin (a SOCK_SEQPACKET socket, one JSON message
a packet): it says {"msg": "ready", "port": P, "loops": 1} once it listens on 127.0.0.1:P,
serves until it reads {"msg": "stop"} (or its channel closes, or SIGTERM comes), then says
{"msg": "stopped", "served": N, "accepted": N, "blocked": N}.

    python3 async_io.py DELAY_MS BLOCK_MS
"""

import asyncio
import json
import os
import signal
import socket
import sys
import time


def main():
    delay = int(sys.argv[1]) / 1000
    block = int(sys.argv[2]) / 1000
    # The family and type of the inherited socket are read from it.
    control = socket.socket(fileno=0)
    tally = {"served": 0, "accepted": 0, "blocked": 0}

    async def answer(reader, writer):
        blocks = tally["accepted"] == 0 and block > 0
        tally["accepted"] += 1
        writer.get_extra_info("socket").setsockopt(
            socket.IPPROTO_TCP, socket.TCP_NODELAY, 1
        )
        try:
            writer.write(b"+")  # the welcome: this coroutine holds the connection now
            await writer.drain()
            while True:
                request = await reader.readexactly(8)
                if blocks:
                    time.sleep(block)  # blocks the loop: every coroutine waits
                    tally["blocked"] += 1
                await asyncio.sleep(delay)
                writer.write(request)
                await writer.drain()
                tally["served"] += 1
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def serve():
        # A socket of our own: start_server(host=...) would resolve the name on a thread.
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        server = await asyncio.start_server(
            answer, sock=listener, backlog=socket.SOMAXCONN
        )
        loop = asyncio.get_running_loop()
        stop = loop.create_future()

        def stop_now(*_):
            if not stop.done():
                stop.set_result(None)

        def on_control():
            try:
                control.recv(4096)
            except BlockingIOError:
                return
            except OSError:
                pass
            # A stop, or the runner closed its end: either way, stop.
            stop_now()

        control.setblocking(False)
        loop.add_reader(control.fileno(), on_control)
        loop.add_signal_handler(signal.SIGTERM, stop_now)
        loop.add_signal_handler(signal.SIGINT, stop_now)
        port = listener.getsockname()[1]
        control.send(json.dumps({"msg": "ready", "port": port, "loops": 1}).encode())
        await stop
        server.close()
        try:
            control.setblocking(True)
            control.send(json.dumps({"msg": "stopped", **tally}).encode())
        except OSError:
            pass
        # Cancelling the coroutines of connections still open (a cancelled run) one by one
        # takes long; the process's end closes them all at once.
        os._exit(0)

    asyncio.run(serve())


main()
