FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY sequencer ./sequencer
COPY workers ./workers
RUN pip install --no-cache-dir .
COPY sequences ./sequences
COPY templates ./templates
ENTRYPOINT ["sequencer"]
CMD ["demo"]
