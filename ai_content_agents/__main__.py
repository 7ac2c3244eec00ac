"""`python -m ai_content_agents` is the same as the `ai-content-agents` command."""

from .cli import main

main()
