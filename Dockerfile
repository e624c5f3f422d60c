# The production image: the same package `make run` installs, served by gunicorn.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 TURNUP_DATA_DIR=/var/lib/turnup
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY turnup ./turnup
RUN pip install --no-cache-dir -c constraints.txt . && useradd --system turnup \
    && mkdir -p /var/lib/turnup && chown turnup /var/lib/turnup
USER turnup
EXPOSE 8000
CMD ["gunicorn", "turnup.wsgi", "--bind", "0.0.0.0:8000", "--worker-class", "gthread", "--threads", "16"]
