import { Controller, HttpCode, Post, Req, Res, UseGuards, UseInterceptors } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { KeyCommandService } from '@keys/key-service';
import { correlationIdOf } from '@keys/platform';
import { ApiErrors } from '../http/api-error.schema';
import { POSITION_HEADER } from '../http/key.view';
import { WRITE_RESPONSE_HEADERS } from '../http/response-headers.schema';
import { VerificationPropagationInterceptor } from '../http/verification-propagation.interceptor';
import { LeakLabelSchema, LeakReportSchema } from './secret-scanning.schema';
import { GithubSignatureGuard, SIGNATURE_HEADERS } from './secret-scanning.guard';
import { leakReports, revokeLeakedKeys } from './leaked-keys';

export const SECRET_SCANNING_PATH = '/api/secret-scanning/alerts';
/** 1,000 reports of a few hundred bytes each, with room for long URLs. */
export const SECRET_SCANNING_BODY_LIMIT = '512kb';

/**
 * GitHub's secret-scanning partner endpoint: no billing key (GitHub has none); the signature guard stands in
 * for authentication. The revocations answer once the verifiers refuse the keys, like any write.
 */
@Controller()
@ApiTags('secret scanning')
@UseGuards(GithubSignatureGuard)
@UseInterceptors(VerificationPropagationInterceptor)
export class SecretScanningHttpController {
  constructor(private readonly keys: KeyCommandService) {}

  @Post(SECRET_SCANNING_PATH)
  @HttpCode(200)
  @ApiOperation({
    operationId: 'reportLeakedKeys',
    summary: 'Secret-scanning alert (GitHub partner format)',
    description:
      'Revokes every reported key of ours that is live (reason leaked) and labels each report: true_positive for a key revoked because it leaked (also on a retry), false_positive otherwise. Answers 404 unless SECRET_SCANNING_PUBLIC_KEYS_FILE is set.',
  })
  @ApiHeader({ name: 'X-Request-Id', required: false, description: "your id for the request, echoed back and stored as the events' correlation id", schema: { type: 'string' } })
  @ApiHeader({ name: SIGNATURE_HEADERS.identifier, required: true, description: "the SHA-256 identifier of GitHub's signing key", schema: { type: 'string' } })
  @ApiHeader({ name: SIGNATURE_HEADERS.signature, required: true, description: 'base64 DER ECDSA P-256 signature of the raw body (SHA-256)', schema: { type: 'string' } })
  @ApiBody({ type: [LeakReportSchema] })
  @ApiOkResponse({ type: [LeakLabelSchema], headers: WRITE_RESPONSE_HEADERS })
  @ApiErrors({
    400: ['validation_failed'],
    401: ['invalid_signature'],
    404: ['route_not_found'],
    409: ['concurrent_update'],
    413: ['payload_too_large'],
    415: ['unsupported_media_type'],
    429: ['rate_limited'],
    500: ['internal_error', 'request_failed'],
    503: ['unavailable'],
  })
  async report(@Req() req: Request, @Res({ passthrough: true }) res: Response) {
    const reports = leakReports(req.body);
    const agent = req.header('user-agent');
    const { labels, position } = await revokeLeakedKeys(this.keys, reports, {
      actor: { type: 'system', name: 'secret-scanning' },
      ipAddress: req.ip ?? null,
      userAgent: agent ? Array.from(agent).slice(0, 256).join('').replace(/[\p{Cc}\p{Cs}]/gu, '\uFFFD') : null,
      correlationId: correlationIdOf(req),
    });
    if (position !== null) res.setHeader(POSITION_HEADER, String(position));
    return labels;
  }
}
