from pushdesk.cli import main

raise SystemExit(main())
