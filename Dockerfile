# One image for the web processes and the workers (docker-compose.yml picks the command).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 COMMERCE_DATA_DIR=/data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY infra ./infra
COPY domains ./domains
COPY projections ./projections
COPY workers ./workers
COPY storefront ./storefront
COPY fixtures ./fixtures
COPY manage.py ./
# .pyc beside the sources the processes import from /app: the workflow sandbox imports a workflow's
# module afresh for each new run, and PYTHONDONTWRITEBYTECODE would make that a compile every time
RUN pip install --no-cache-dir . && python -m compileall -q infra domains projections workers storefront fixtures \
    && useradd --system --home /app commerce && mkdir -p /data && chown commerce /data
USER commerce
EXPOSE 8000 8001 9464 9465
CMD ["gunicorn", "storefront.wsgi:application", "-c", "python:storefront.gunicorn_conf", "--bind", "0.0.0.0:8000", "--worker-class", "gthread", "--workers", "2", "--threads", "8"]
