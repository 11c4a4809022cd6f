from rulecore.cli import main

main()
