"""Examples shown at the end of ``--help``, by command path (``""`` is ``accessops`` itself).

Each line is a command a user can paste; ``#`` comments say what it does.
"""

from __future__ import annotations

EXAMPLES: dict[str, str] = {
    "": """\
  accessops validate access/                  # check every manifest, all errors at once
  accessops plan access/                      # what would change on the default local target
  accessops plan access/ --out plan.json       # save the reviewed plan ...
  accessops apply plan.json                    # ... and apply exactly it
  accessops explain ada@acme.test             # what can ada do, and why
  accessops completion bash > /etc/bash_completion.d/accessops
""",
    "validate": """\
  accessops validate                          # the current folder
  accessops validate access/ --format json    # error objects for tools
""",
    "plan": """\
  accessops plan access/ --target scim+https://idp.example/scim/v2
  accessops plan access/ --format markdown    # for a pull request comment
  accessops plan access/ --format json        # Terraform-style JSON plan
  accessops plan access/ --out plan.json --detailed-exitcode
""",
    "apply": """\
  accessops apply access/                     # plan, ask 'yes', apply
  accessops apply plan.json --auto-approve     # a saved plan, in CI
  accessops apply plan.json --manifests access/ --lock-timeout 2m
""",
    "force-unlock": """\
  accessops force-unlock 3f2a9c1e --state git:origin   # the lock id a refused apply printed
""",
    "state": """\
  accessops state migrate --to git:origin     # copy the local state to the policy repository's accessops-state branch
""",
    "show": """\
  accessops show plan.json
  accessops show plan.json --format json
""",
    "drift": """\
  accessops drift access/                     # exit 2 when live access differs
  accessops drift access/ --format markdown
""",
    "export": """\
  accessops export --target local:.accessops/tenant.db -o exported/
""",
    "explain": """\
  accessops explain ada@acme.test             # from the manifests
  accessops explain bo --live                 # from the live system
""",
    "who-can": """\
  accessops who-can delete crm/customers access/
  accessops who-can Billing:View acme --live
""",
    "audit": """\
  accessops audit access/ --format markdown   # the weekly checklist
""",
    "tenant": """\
  accessops tenant accept bo@acme.test --target local:demo.db
  accessops tenant set-role bo@acme.test Admin
  accessops tenant list --format json
""",
    "log": """\
  accessops log access/
""",
    "schema": """\
  accessops schema --out schemas/accessops-v1.schema.json
""",
    "profiles": """\
  accessops profiles                          # the built-in profiles
  accessops profiles union                    # one profile's vocabulary
""",
    "completion": """\
  accessops completion bash > ~/.local/share/bash-completion/completions/accessops
  accessops completion zsh > "${fpath[1]}/_accessops"
  accessops completion fish > ~/.config/fish/completions/accessops.fish
""",
}
