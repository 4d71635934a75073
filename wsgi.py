from trellis.platform import create_app
app = create_app()
