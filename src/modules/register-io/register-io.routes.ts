import express, { type Request, type Response } from 'express';
import { GraphQLError } from 'graphql';
import { requireRole } from '../../auth/viewer';
import { ErrorCode } from '../../common/error-code';
import { HttpRoutes } from '../../transport/http-routes';
import { FileFormat, XLSX_CONTENT_TYPE, ZIP_CONTENT_TYPE } from './register-io.formats';

const badRequest = (message: string, status = 400) =>
  new GraphQLError(message, { extensions: { code: ErrorCode.BAD_REQUEST, http: { status } } });

/**
 * The file, read with the import's own limit (IMPORT_MAX_BYTES; a declared content-length over it is refused
 * before a byte is read), its refusals answered like any other (JSON, with the status).
 */
function readBody(req: Request, res: Response, maxBytes: number): Promise<Buffer> {
  const parse = express.raw({ type: () => true, limit: maxBytes });
  return new Promise((resolve, reject) =>
    parse(req, res, (error?: unknown) => {
      if (!error) return resolve(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
      const type = (error as { type?: string }).type;
      reject(
        type === 'entity.too.large'
          ? badRequest(`The file is larger than ${maxBytes} bytes (IMPORT_MAX_BYTES)`, 413)
          : badRequest(`The file could not be read: ${(error as Error).message}`),
      );
    }),
  );
}

function formatOf(req: Request): FileFormat {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type === XLSX_CONTENT_TYPE) return 'xlsx';
  if (type === ZIP_CONTENT_TYPE || type === 'application/x-zip-compressed') return 'zip';
  throw badRequest(
    `The content type must name the file's format: ${XLSX_CONTENT_TYPE} for a workbook, ${ZIP_CONTENT_TYPE} for a zip of CSV files`,
    415,
  );
}

function flag(req: Request, name: string, values: readonly string[], fallback: string): string {
  const raw = req.query[name];
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string' || !values.includes(raw))
    throw badRequest(`${name} must be one of ${values.join(', ')}`);
  return raw;
}

/** The name the file is recorded under in the audit trail: content-disposition's filename, else a default. */
function fileNameOf(req: Request, format: FileFormat): string {
  const disposition = req.headers['content-disposition'] ?? '';
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
  const name = match ? decodeURIComponent(match[1]).replace(/[\\/]/g, '_').slice(0, 200) : '';
  return name || `upload.${format}`;
}

/**
 * GET /exports/register.xlsx and /exports/register.zip: the register the viewer may see, streamed.
 * POST /imports: an admin's workbook or zip of CSVs, all or nothing (docs/import.md).
 */
export function mountRegisterIoRoutes(routes: HttpRoutes): void {
  for (const format of ['xlsx', 'zip'] as const) {
    routes.get(`/exports/register.${format}`, async (context, _req, res) => {
      requireRole(context.viewer, 'admin', 'analyst', 'client');
      res.setHeader('content-type', format === 'xlsx' ? XLSX_CONTENT_TYPE : ZIP_CONTENT_TYPE);
      res.setHeader('content-disposition', `attachment; filename="register.${format}"`);
      await context.services.registerIo.export(context.viewer, format, res);
    });
  }

  routes.post(
    '/imports',
    async (context, req, res) => {
      requireRole(context.viewer, 'admin');
      const format = formatOf(req);
      const dryRun = flag(req, 'dryRun', ['true', 'false'], 'false') === 'true';
      const mode = flag(req, 'mode', ['merge', 'replace'], 'merge') as 'merge' | 'replace';
      const service = context.services.registerIo;
      const data = await readBody(req, res, service.options.maxBytes);
      const options = { fileName: fileNameOf(req, format), dryRun, mode, requestId: context.requestId };
      if (data.length > service.options.jobThresholdBytes) {
        const jobId = await service.startJob(context.viewer, data, format, options);
        res.status(202).json({ jobId });
        return;
      }
      const report = await service.importFile(context.viewer, data, format, options);
      res.status(report.problems.length ? 422 : 200).json(report);
    },
    { kind: 'write' },
  );
}
