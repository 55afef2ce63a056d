"""In-process clients over the embedded broker: blocking (threads) and asyncio."""
