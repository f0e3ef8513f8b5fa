from gitops.cli.main import main

main()
