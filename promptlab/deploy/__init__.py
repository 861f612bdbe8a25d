"""Amazon Bedrock Prompt Management as the deployment target of prompts kept in git.

template.py turns a prompt into what Prompt Management can render (`{{var}}` placeholders
only) or lists, at file:line, what it cannot; shape.py is the managed prompt's wire shape (the
CHAT variant, the description line naming the git version, prompt ARNs); service.py makes the
bedrock-agent calls and turns their failures into one-line errors; publish.py, pull.py,
compare.py and listing.py are the `publish`, `pull`, `diff` and `deployed` commands' logic.
Everything here imports boto3 only inside functions that call AWS.
"""
