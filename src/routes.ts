import { mountReportRoutes } from './modules/report/report.routes';
import { mountRegisterIoRoutes } from './modules/register-io/register-io.routes';
import { HttpRoutes } from './transport/http-routes';
import { mountPictureRoutes } from './modules/picture/picture.routes';

/**
 * Every page and file served beside GraphQL, one line per feature module (as schema.ts lists the
 * resolvers). Each module's `mount…Routes(routes)` adds its GET/POST handlers; http-routes.ts gives them
 * the request Context after the token, rate-limit and query-slot checks.
 */
export function mountRoutes(routes: HttpRoutes): void {
  mountPictureRoutes(routes);
  mountReportRoutes(routes);
  mountRegisterIoRoutes(routes);
}
