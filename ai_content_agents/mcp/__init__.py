"""The MCP server: the agents' own typed tool functions, served to Claude Desktop / Claude Code.

`catalogue` picks which agent tools are served and binds each call; `resources` reads the latest issue
and the ranked trends; `server` wires both into the official `mcp` SDK and runs it over stdio or
streamable HTTP (127.0.0.1 only).
"""
