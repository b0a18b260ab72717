from drt.cli import app

app()
