import { Controller, Get, UseGuards } from '@nestjs/common';
import { Caller, KeyAuthGuard, RequireKey, type VerifiedKeyIdentity } from '@keys/auth';

@Controller('v1/whoami')
@RequireKey('proxy')
@UseGuards(KeyAuthGuard)
export class WhoamiHttpController {
  /** The calling key's identity as the verifier knows it (never the key itself). */
  @Get()
  whoami(@Caller() caller: VerifiedKeyIdentity): { key: VerifiedKeyIdentity } {
    return { key: caller };
  }
}
